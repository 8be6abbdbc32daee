package projection

import (
	"testing"
	"time"
)

func TestCivilDays(t *testing.T) {
	for _, d := range []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-401, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
	} {
		for i := range 800 {
			day := d.AddDate(0, 0, i)
			n := daysFromCivil(int64(day.Year()), int64(day.Month()), int64(day.Day()))
			if want := day.Unix() / 86400; day.Unix() >= 0 && n != want {
				t.Fatalf("daysFromCivil(%v) = %d, want %d", day, n, want)
			}
			y, m, dd := civilFromDays(n)
			if int(y) != day.Year() || time.Month(m) != day.Month() || int(dd) != day.Day() {
				t.Fatalf("civilFromDays(%d) = %d-%d-%d, want %v", n, y, m, dd, day)
			}
		}
	}
}
