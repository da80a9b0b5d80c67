package roadie

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// ---- roadiehq:utils:sleep

// sleepAction waits, at most max (Roadie's maxSleep option, which here
// always has a value: a template can not hold a worker for hours).
type sleepAction struct {
	max        time.Duration
	maxSeconds float64
}

func (sleepAction) ID() string { return "roadiehq:utils:sleep" }
func (sleepAction) Description() string {
	return "Halts the scaffolding for the given amount of seconds"
}
func (sleepAction) Schema() (map[string]any, map[string]any) {
	return action.ObjectSchema([]string{"amount"}, map[string]any{
		"amount": action.TypeSchema("number", "Amount", "How much seconds should this step take."),
	}), action.ObjectSchema(nil, map[string]any{})
}

// SupportsDryRun: Roadie's sleeps in dry runs too.
func (sleepAction) SupportsDryRun() bool { return true }

func (a sleepAction) Run(c *action.Context) error {
	n, ok, err := action.NumberInput(c.Input, "amount")
	if err != nil || !ok || math.IsNaN(n) {
		return errors.New("amount must be a number")
	}
	if n < 0 {
		return fmt.Errorf("amount must not be negative, got %s", jsNumber(n))
	}
	if n > a.maxSeconds {
		return fmt.Errorf("sleep amount can not be greater than maxSleep. amount: %s, maxSleep: %s", jsNumber(n), jsNumber(a.maxSeconds))
	}
	c.Logf("Waiting %s seconds", jsNumber(n))
	d := time.Duration(n * float64(time.Second))
	if d > a.max {
		d = a.max
	}
	t := time.NewTimer(d)
	defer t.Stop()
	ctx := c.Ctx
	if ctx == nil {
		<-t.C
		return nil
	}
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
