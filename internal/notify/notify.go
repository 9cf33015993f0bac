// Package notify delivers the outbox: messages to people in the app and by
// SMS. A message is queued in the same transaction as what it reports;
// a sender that fails leaves it queued to be tried again, so none is lost.
package notify

import (
	"context"
	"time"

	"shequ/internal/pii"
	"shequ/internal/store"
)

// Sender sends a text to a phone: an SMS gateway or a messaging service;
// the default writes to the log (auth.LogSender).
type Sender interface {
	Notify(ctx context.Context, phone, text string) error
}

// Tell queues a message for a user: in the app, and by SMS when they have
// a phone.
func Tell(ctx context.Context, tx *store.Tx, u store.User, text, link string) error {
	if err := tx.QueueMessage(ctx, &store.Message{UserID: u.ID, Channel: "app", Body: text, Link: link}); err != nil {
		return err
	}
	if len(u.PhoneEnc) == 0 {
		return nil
	}
	return tx.QueueMessage(ctx, &store.Message{UserID: u.ID, Channel: "sms", Body: text, Link: link})
}

// claimFor is how long a sender holds a message it is sending before
// another may try it (a sender that died mid-send).
const claimFor = 5 * time.Minute

// Deliver sends the SMS messages whose turn has come; it returns how many
// were sent and how many failed (those stay queued). Each message is
// claimed before it is sent, so several instances running Deliver at once
// send it once.
func Deliver(ctx context.Context, s *store.Store, keys *pii.Keyring, send Sender) (sent, failed int, err error) {
	msgs, err := s.PendingMessages(ctx, s.Now(), 200)
	if err != nil {
		return 0, 0, err
	}
	for _, m := range msgs {
		var mine bool
		if err := s.Write(ctx, func(tx *store.Tx) error {
			var cerr error
			mine, cerr = tx.ClaimMessage(ctx, m.ID, tx.Now().Add(claimFor))
			return cerr
		}); err != nil {
			return sent, failed, err
		}
		if !mine {
			continue // another instance is sending it
		}
		var sendErr error
		u, uerr := s.User(ctx, m.UserID)
		phone := ""
		if uerr == nil && len(u.PhoneEnc) > 0 {
			phone, uerr = keys.DecryptString(u.PhoneEnc, "users.phone")
		}
		switch {
		case uerr != nil:
			sendErr = uerr
		case phone == "":
			// Nobody to text any more: the message stays in the app.
		default:
			sendErr = send.Notify(ctx, phone, m.Body)
		}
		err = s.Write(ctx, func(tx *store.Tx) error {
			if sendErr != nil {
				return tx.MessageFailed(ctx, m.ID, sendErr.Error())
			}
			return tx.MessageSent(ctx, m.ID)
		})
		if err != nil {
			return sent, failed, err
		}
		if sendErr != nil {
			failed++
		} else {
			sent++
		}
	}
	return sent, failed, nil
}
