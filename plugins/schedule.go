package plugins

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ScheduleConfig is a Backstage task schedule as app-config writes it
// ({frequency, timeout, initialDelay, scope}), the schedule key of the
// catalog providers. A plugin's config struct declares its schedule key
// with this type, so that DecodeValue's strict decoding refuses a
// misspelt key; the durations stay raw until Parse, so that an error can
// name the field that is wrong.
type ScheduleConfig struct {
	Frequency    any    `yaml:"frequency"`
	Timeout      any    `yaml:"timeout"`
	InitialDelay any    `yaml:"initialDelay"`
	Scope        string `yaml:"scope"`
}

// Schedule is a parsed task schedule.
type Schedule struct {
	Frequency    time.Duration // always positive
	Timeout      time.Duration // 0: none configured
	InitialDelay time.Duration // 0: none configured
	// Scope is Backstage's "global" or "local" (or ""): Greenroom runs as
	// one process, so both mean the same.
	Scope string
}

// Parse reads the schedule configured at path (the schedule's dotted key,
// "catalog.providers.gitea.main.schedule"), which errors name.
// Frequency is required and must be positive, as in Backstage: a provider
// that should only run at start has no business with a schedule. Cron
// frequencies and manual triggers are refused, since the host runs
// providers on an interval.
func (c ScheduleConfig) Parse(path string) (Schedule, error) {
	var s Schedule
	if c.Frequency == nil {
		return s, fmt.Errorf("config %s.frequency is required (such as {minutes: 30})", path)
	}
	var err error
	if s.Frequency, err = ParseDuration(c.Frequency); err != nil {
		return s, fmt.Errorf("config %s.frequency: %w", path, err)
	}
	if s.Frequency == 0 {
		return s, fmt.Errorf("config %s.frequency: must be positive", path)
	}
	if c.Timeout != nil {
		if s.Timeout, err = ParseDuration(c.Timeout); err != nil {
			return s, fmt.Errorf("config %s.timeout: %w", path, err)
		}
	}
	if c.InitialDelay != nil {
		if s.InitialDelay, err = ParseDuration(c.InitialDelay); err != nil {
			return s, fmt.Errorf("config %s.initialDelay: %w", path, err)
		}
	}
	switch c.Scope {
	case "", "global", "local":
		s.Scope = c.Scope
	default:
		return s, fmt.Errorf("config %s.scope: %q is not global or local", path, c.Scope)
	}
	return s, nil
}

// ParseDuration reads a duration in the forms Backstage's config takes
// for schedules and intervals:
//
//   - an object of Luxon units (HumanDuration): {minutes: 30},
//     {hours: 1, seconds: 1.5}; milliseconds, seconds, minutes, hours,
//     days, weeks, and months and years of 30 and 365 days, as Luxon
//     counts them;
//   - an ISO 8601 duration: "PT30M", "P1DT2H", "P1W", "PT0.5S";
//   - for Go users, a Go duration: "30m", "1h15m".
//
// Zero is a duration (whether it is allowed is the caller's business);
// a negative one is refused, as are cron and manual-trigger objects. The
// error does not name the key: the caller knows it.
func ParseDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case string:
		s := strings.TrimSpace(x)
		if strings.HasPrefix(strings.ToUpper(s), "P") {
			return parseISODuration(s)
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (such as PT30M, 30m or {minutes: 30})", x)
		}
		if d < 0 {
			return 0, fmt.Errorf("%q: a duration must not be negative", x)
		}
		return d, nil
	case map[string]any:
		return parseDurationObject(x)
	}
	return 0, fmt.Errorf("expected a duration such as {minutes: 30}, PT30M or 30m, got %v", v)
}

func parseDurationObject(m map[string]any) (time.Duration, error) {
	if _, ok := m["cron"]; ok {
		return 0, errors.New("cron schedules are not supported; use a duration such as {minutes: 30}")
	}
	if _, ok := m["trigger"]; ok {
		return 0, errors.New("manual triggers are not supported; use a duration such as {minutes: 30}")
	}
	if len(m) == 0 {
		return 0, errors.New("an empty object is not a duration; give a unit, such as {minutes: 30}")
	}
	// sorted, so that of two mistakes the same one is always reported
	var total float64
	for _, k := range slices.Sorted(maps.Keys(m)) {
		unit, ok := durationUnit(k)
		if !ok {
			return 0, fmt.Errorf("unknown duration unit %q (use milliseconds, seconds, minutes, hours, days, weeks, months or years)", k)
		}
		n, ok := durationNumber(m[k])
		if !ok {
			return 0, fmt.Errorf("duration %s must be a number, got %v", k, m[k])
		}
		if n < 0 {
			return 0, fmt.Errorf("duration %s must not be negative", k)
		}
		total += n * float64(unit)
	}
	return fromNanoseconds(total)
}

// durationUnit is a HumanDuration key's length.
func durationUnit(k string) (time.Duration, bool) {
	switch k {
	case "years":
		return 365 * 24 * time.Hour, true
	case "months":
		return 30 * 24 * time.Hour, true
	case "weeks":
		return 7 * 24 * time.Hour, true
	case "days":
		return 24 * time.Hour, true
	case "hours":
		return time.Hour, true
	case "minutes":
		return time.Minute, true
	case "seconds":
		return time.Second, true
	case "milliseconds":
		return time.Millisecond, true
	}
	return 0, false
}

// durationNumber is a YAML number as decoded into an any.
func durationNumber(v any) (float64, bool) {
	var f float64
	switch n := v.(type) {
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case uint64:
		f = float64(n)
	case float64:
		f = n
	default:
		return 0, false
	}
	return f, !math.IsNaN(f) && !math.IsInf(f, 0)
}

// fromNanoseconds converts a sum of units, refusing what time.Duration
// cannot hold (about 292 years) rather than wrapping around.
func fromNanoseconds(ns float64) (time.Duration, error) {
	if ns >= math.MaxInt64 {
		return 0, errors.New("the duration is too long (292 years at most)")
	}
	return time.Duration(ns), nil
}

// isoDurationRe is an ISO 8601 duration, upper-cased: PnYnMnWnDTnHnMnS,
// each part optional and each number possibly fractional.
var isoDurationRe = regexp.MustCompile(`^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

func parseISODuration(s string) (time.Duration, error) {
	u := strings.ToUpper(s)
	m := isoDurationRe.FindStringSubmatch(u)
	// "P" and a trailing "T" match the pattern but say nothing
	if m == nil || u == "P" || strings.HasSuffix(u, "T") {
		return 0, fmt.Errorf("%q is not an ISO 8601 duration (such as PT30M or P1D)", s)
	}
	units := []time.Duration{365 * 24 * time.Hour, 30 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second}
	var total float64
	for i, unit := range units {
		if m[i+1] == "" {
			continue
		}
		f, err := strconv.ParseFloat(m[i+1], 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an ISO 8601 duration: %v", s, err)
		}
		total += f * float64(unit)
	}
	return fromNanoseconds(total)
}
