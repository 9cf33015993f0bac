package config

import (
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestRetentionSettings(t *testing.T) {
	c, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Retention != DefaultRetention() || c.Retention.Audit != 3*365*Day || c.Retention.Faces != 30*Day {
		t.Fatalf("default periods: %+v", c.Retention)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	Register(fs)
	if err := fs.Parse([]string{"-alarm-retention", "30d"}); err != nil {
		t.Fatal(err)
	}
	c, err = Load(fs, env(map[string]string{"SHEQU_HEALTH_RETENTION": "90d", "SHEQU_VISITOR_RETENTION": "720h",
		"SHEQU_AUDIT_RETENTION": "365d", "SHEQU_ALARM_RETENTION": "7d"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Retention.Health != 90*Day || c.Retention.Visitors != 30*Day || c.Retention.Audit != 365*Day || c.Retention.Alarms != 30*Day {
		t.Fatalf("set periods: %+v", c.Retention)
	}
	if c.Retention.Leads != DefaultRetention().Leads {
		t.Fatalf("a period not set changed: %v", c.Retention.Leads)
	}
	for name, v := range map[string]string{
		"SHEQU_AUDIT_RETENTION":       "90d",  // below the six months a log must be kept
		"SHEQU_PARTNER_LOG_RETENTION": "30d",  // likewise
		"SHEQU_HEALTH_RETENTION":      "12h",  // less than a day
		"SHEQU_FACE_RETENTION":        "soon", // not a period
		"SHEQU_LEAD_RETENTION":        "-3d",
	} {
		_, err := Load(nil, env(map[string]string{name: v}))
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != name {
			t.Errorf("%s=%s: got %v, want an error naming it", name, v, err)
		}
	}
	var usage strings.Builder
	fs = flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(&usage)
	Register(fs)
	fs.PrintDefaults()
	if !strings.Contains(usage.String(), "SHEQU_NOTIFICATION_RETENTION") || !strings.Contains(usage.String(), "90d") {
		t.Fatalf("the settings are not in the usage:\n%s", usage.String())
	}
}

func TestMQTTClientSettings(t *testing.T) {
	c, err := Load(nil, env(map[string]string{"SHEQU_MQTT_BROKER": "tcp://10.0.0.5:1883", "SHEQU_MQTT_USERNAME": "shequ-bridge",
		"SHEQU_MQTT_PASSWORD_FILE": "/etc/shequ/mqtt.password", "SHEQU_MQTT_SHARED_GROUP": "shequ"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MQTT != (MQTTClient{Username: "shequ-bridge", PasswordFile: "/etc/shequ/mqtt.password", SharedGroup: "shequ"}) {
		t.Fatalf("%+v", c.MQTT)
	}
	_, err = Load(nil, env(map[string]string{"SHEQU_MQTT_SHARED_GROUP": "a/b"}))
	var ce *Error
	if !errors.As(err, &ce) || ce.Var != "SHEQU_MQTT_SHARED_GROUP" {
		t.Fatalf("a group with a slash: %v", err)
	}
}
