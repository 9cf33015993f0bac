package config

import (
	"fmt"
	"regexp"
)

// MQTTClient is how the bridge logs in to an external broker
// (SHEQU_MQTT_BROKER) and shares the devices' requests with other
// instances.
type MQTTClient struct {
	// Username and PasswordFile log the bridge in (the broker's account
	// for shequ, with the ACL of docs/mqtt.md). The password is read from
	// a file so that it stays out of the environment and the process list.
	Username     string
	PasswordFile string
	// SharedGroup subscribes with $share/{group}/…: several instances then
	// split the devices' requests, each handled once. Needed as soon as
	// more than one instance connects to the broker.
	SharedGroup string
}

var mqttGroup = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func init() {
	settings = append(settings,
		setting{"SHEQU_MQTT_USERNAME", "mqtt-username", "the bridge's account on the external MQTT broker", func(c *Config, v string) error {
			c.MQTT.Username = v
			return nil
		}},
		setting{"SHEQU_MQTT_PASSWORD_FILE", "mqtt-password-file", "file holding the bridge's MQTT password", func(c *Config, v string) error {
			c.MQTT.PasswordFile = v
			return nil
		}},
		setting{"SHEQU_MQTT_SHARED_GROUP", "mqtt-shared-group", "share the devices' requests between instances: $share/GROUP/… (e.g. shequ)", func(c *Config, v string) error {
			if !mqttGroup.MatchString(v) {
				return fmt.Errorf("letters, digits, - and _ only, not %q", v)
			}
			c.MQTT.SharedGroup = v
			return nil
		}},
	)
}
