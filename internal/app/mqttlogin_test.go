package app_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"shequ/internal/app"
	"shequ/internal/testutil"
)

// brokerWithPasswords starts a Mosquitto of its own that refuses anonymous
// clients and knows one account, as docs/deploy.md sets it up.
func brokerWithPasswords(t *testing.T, user, password string) string {
	t.Helper()
	bin, err := osexec.LookPath("mosquitto")
	if err != nil {
		if _, err = os.Stat("/usr/sbin/mosquitto"); err != nil {
			testutil.SkipOrFail(t, "mosquitto is not installed")
		}
		bin = "/usr/sbin/mosquitto"
	}
	dir := t.TempDir()
	pw := filepath.Join(dir, "passwd")
	if out, err := osexec.Command("mosquitto_passwd", "-c", "-b", pw, user, password).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v %s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	conf := filepath.Join(dir, "mosquitto.conf")
	text := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous false\npassword_file %s\n", port, pw)
	if os.Geteuid() == 0 {
		text += "user root\n" // else it drops to the mosquitto user, who cannot read the test's folder
	}
	os.WriteFile(conf, []byte(text), 0o600)
	cmd := osexec.Command(bin, "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if i == 100 {
			t.Fatalf("mosquitto does not listen: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "tcp://" + addr
}

// TestMQTTBridgeLogsInToTheBroker: with SHEQU_MQTT_USERNAME and
// SHEQU_MQTT_PASSWORD_FILE the server's bridge gets into a broker that
// refuses anonymous clients; a wrong password or a missing password file
// stops the start naming the setting.
func TestMQTTBridgeLogsInToTheBroker(t *testing.T) {
	broker := brokerWithPasswords(t, "shequ-bridge", "s3cret-bridge")
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	os.WriteFile(good, []byte("s3cret-bridge\n"), 0o600)
	os.WriteFile(bad, []byte("guess\n"), 0o600)
	clock := testutil.NewClock(time.Now())
	for _, c := range []struct {
		name, file, wantVar string
	}{
		{"right password", good, ""},
		{"wrong password", bad, "SHEQU_MQTT_BROKER"},
		{"missing password file", filepath.Join(dir, "none"), "SHEQU_MQTT_PASSWORD_FILE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := openApp(t, "sqlite", clock, "", "")
			a.Cfg.Addr = "127.0.0.1:0"
			a.Cfg.MQTTBroker = broker
			a.Cfg.MQTT.Username, a.Cfg.MQTT.PasswordFile, a.Cfg.MQTT.SharedGroup = "shequ-bridge", c.file, "shequ"
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			logs := &lockedBuf{}
			a.Log = slog.New(slog.NewTextHandler(logs, nil))
			errc := make(chan error, 1)
			go func() { errc <- a.Serve(ctx) }()
			if c.wantVar == "" {
				// Started: the bridge says so once it is connected.
				for i := 0; !strings.Contains(logs.String(), "MQTT bridge started"); i++ {
					select {
					case err := <-errc:
						t.Fatalf("serve stopped: %v", err)
					case <-time.After(50 * time.Millisecond):
					}
					if i == 400 {
						t.Fatal("the bridge never connected")
					}
				}
				cancel()
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
				return
			}
			err := <-errc
			var se *app.StartupError
			if !errors.As(err, &se) || se.Var != c.wantVar {
				t.Fatalf("got %v, want a start-up error naming %s", err, c.wantVar)
			}
		})
	}
}

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
