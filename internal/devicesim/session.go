package devicesim

import (
	"context"
	"fmt"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// session subscribes, publishes and waits for messages on a connected
// client, then disconnects and waits for the client's goroutines to end.
func (d *device) session(ctx context.Context, c *paho.Client) (err error) {
	defer func() {
		d.closing.Store(true)
		_ = c.Disconnect(&paho.Disconnect{ReasonCode: 0})
		<-c.Done()
		if err == nil {
			d.logf("disconnected")
		}
	}()
	cfg := &d.cfg
	for _, filter := range cfg.Subscribe {
		if err := d.subscribe(ctx, c, filter); err != nil {
			return err
		}
	}
	if cfg.Publish != "" {
		if err := d.publishAll(ctx, c); err != nil {
			return err
		}
	}
	if len(cfg.Subscribe) == 0 {
		return d.endReason()
	}
	return d.waitMessages(ctx)
}

func (d *device) subscribe(ctx context.Context, c *paho.Client, filter string) error {
	d.lastAction.Store("subscribe " + filter)
	sa, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: d.cfg.QoS}}})
	if sa != nil && len(sa.Reasons) == 1 && sa.Reasons[0] >= 0x80 {
		msg := fmt.Sprintf("SUBACK %s for %s", reason(sa.Reasons[0]), filter)
		if sa.Reasons[0] == codeNotAuthorized {
			msg += fmt.Sprintf(": the certificate's policies do not allow iot:Subscribe on arn:aws:iot:REGION:ACCOUNT:topicfilter/%s", filter)
		}
		return fail(Refused, err, msg)
	}
	if err != nil {
		return d.lost(ctx, err, "subscribing to "+filter)
	}
	d.logf("subscribed to %s (SUBACK %s)", filter, reason(sa.Reasons[0]))
	return nil
}

func (d *device) publishAll(ctx context.Context, c *paho.Client) error {
	cfg := &d.cfg
	of := ""
	if cfg.Count > 0 {
		of = fmt.Sprintf(" of %d", cfg.Count)
	}
	for n := 1; cfg.Count == 0 || n <= cfg.Count; n++ {
		if n > 1 && cfg.Interval > 0 {
			select {
			case <-time.After(cfg.Interval):
			case e := <-d.ended:
				return e
			case <-ctx.Done():
				return d.interrupted(ctx)
			}
		}
		d.lastAction.Store("publish " + cfg.Publish)
		pr, err := c.Publish(ctx, &paho.Publish{Topic: cfg.Publish, QoS: cfg.QoS, Payload: cfg.Message})
		if pr != nil && pr.ReasonCode >= 0x80 {
			msg := fmt.Sprintf("PUBACK %s for %s", reason(pr.ReasonCode), cfg.Publish)
			if pr.ReasonCode == codeNotAuthorized {
				msg += fmt.Sprintf(": the certificate's policies do not allow iot:Publish on arn:aws:iot:REGION:ACCOUNT:topic/%s", cfg.Publish)
			}
			return fail(Refused, err, msg)
		}
		if err != nil {
			return d.lost(ctx, err, "publishing to "+cfg.Publish)
		}
		if cfg.QoS == 0 {
			d.logf("published message %d%s to %s (QoS 0: no acknowledgement)", n, of, cfg.Publish)
		} else {
			d.logf("published message %d%s to %s (PUBACK %s)", n, of, cfg.Publish, reason(pr.ReasonCode))
		}
		select {
		case e := <-d.ended:
			return e
		default:
		}
	}
	return nil
}

// waitMessages waits until Count messages have arrived (Count 0: until ctx
// ends), at most Wait after publishing.
func (d *device) waitMessages(ctx context.Context) error {
	cfg := &d.cfg
	var deadline <-chan time.Time
	if cfg.Count > 0 {
		t := time.NewTimer(cfg.Wait)
		defer t.Stop()
		deadline = t.C
	}
	for {
		d.mu.Lock()
		got := d.received
		d.mu.Unlock()
		if cfg.Count > 0 && got >= cfg.Count {
			return nil
		}
		select {
		case <-d.gotMsg:
		case e := <-d.ended:
			return e
		case <-deadline:
			return fail(NotReceived, nil, fmt.Sprintf("received %d of %d messages within %s: check that something publishes to the subscribed filters and that the policies allow iot:Receive on them", got, cfg.Count, cfg.Wait))
		case <-ctx.Done():
			return d.interrupted(ctx)
		}
	}
}

// endReason returns why the connection ended, if it did while the device was
// publishing: a QoS 0 publish the server refused shows only that way.
func (d *device) endReason() error {
	select {
	case e := <-d.ended:
		return e
	default:
		return nil
	}
}

// lost explains a failed subscribe or publish.
func (d *device) lost(ctx context.Context, err error, doing string) error {
	if ctx.Err() != nil {
		return d.interrupted(ctx)
	}
	select {
	case e := <-d.ended:
		return e
	case <-time.After(d.cfg.ConnectTimeout):
	}
	return fail(Disconnected, err, fmt.Sprintf("%s failed: %v", doing, err))
}

// interrupted ends a run the user stopped: a success when the device was
// to run until stopped.
func (d *device) interrupted(ctx context.Context) error {
	if d.cfg.Count == 0 {
		return nil
	}
	return fmt.Errorf("device: interrupted: %w", ctx.Err())
}
