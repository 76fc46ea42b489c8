package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/authvault/authvault/eventlog"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/usage"
)

// uiStyles are the ui's text styles. Without color (NO_COLOR) they keep
// only bold, faint and reverse video.
type uiStyles struct {
	title, head, pool, sel, ready, cooling, bad, faint, err lipgloss.Style
}

func newUIStyles(color bool) uiStyles {
	s := uiStyles{
		title: lipgloss.NewStyle().Bold(true),
		head:  lipgloss.NewStyle().Bold(true),
		pool:  lipgloss.NewStyle().Bold(true),
		sel:   lipgloss.NewStyle().Reverse(true),
		faint: lipgloss.NewStyle().Faint(true),
		err:   lipgloss.NewStyle().Bold(true),
	}
	if color {
		s.ready = s.ready.Foreground(lipgloss.Color("2"))
		s.cooling = s.cooling.Foreground(lipgloss.Color("3"))
		s.bad = s.bad.Foreground(lipgloss.Color("1"))
		s.err = s.err.Foreground(lipgloss.Color("1"))
		s.pool = s.pool.Foreground(lipgloss.Color("6"))
	}
	return s
}

// uiKeys is the key list, as ? shows it (and the README).
var uiKeys = [][2]string{
	{"↑ ↓  k j", "move"},
	{"enter", "the account's details, origins and recent events"},
	{"d", "disable (asks for a reason) or enable"},
	{"r", "reset its cooldowns and needs-re-auth mark"},
	{"K J", "move it up or down in its pool"},
	{"x", "remove it (asks to type its label)"},
	{"a", "add an API-key account (the key is masked)"},
	{"l", "log in to the selected provider"},
	{"/", "filter accounts (esc clears)"},
	{"?", "this list"},
	{"q", "quit"},
}

const uiHint = "? keys  enter details  d disable  r reset  K/J order  x remove  a add  l login  / filter  q quit"

func (m *uiModel) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "vaultkey ui"
	return v
}

// render draws the screen: at most height lines of at most width cells.
func (m *uiModel) render() string {
	w, h := max(m.width, 20), max(m.height, 6)
	var lines []string
	add := func(s string) { lines = append(lines, s) }

	now := m.now()
	clock := now.Format("15:04:05")
	title := fit("vaultkey ui · "+m.title, w-len(clock)-1)
	add(m.styles.title.Render(pad(title, w-len(clock))) + clock)

	body := h - 3 // title, status, hint
	switch m.mode {
	case modeHelp:
		lines = append(lines, m.helpLines(w, body)...)
	case modeDetails:
		lines = append(lines, m.detailsLines(w, body, now)...)
	case modeLogin:
		lines = append(lines, m.loginLines(w, body)...)
	default:
		if m.mode == modePrompt && m.prev == modeDetails {
			lines = append(lines, m.detailsLines(w, body, now)...)
		} else {
			lines = append(lines, m.mainLines(w, body, now)...)
		}
	}
	for len(lines) < h-2 {
		add("")
	}
	lines = lines[:h-2]
	add(m.statusLine(w))
	add(m.styles.faint.Render(fit(uiHint, w)))
	return strings.Join(lines, "\n")
}

func (m *uiModel) statusLine(w int) string {
	if m.mode == modePrompt && m.prompt != nil {
		label := fit(m.prompt.label, w-10)
		m.prompt.input.SetWidth(max(1, w-ansi.StringWidth(label)-1))
		return label + m.prompt.input.View()
	}
	if m.filter != "" && m.status == "" {
		return fit("filter: "+m.filter+" (esc clears)", w)
	}
	if m.statusErr {
		return m.styles.err.Render(fit(m.status, w))
	}
	return fit(m.status, w)
}

// columns are the widths of the account table's columns for width w.
type columns struct{ label, state int }

const (
	colPos, colKind, colLast, colOK, col429, colRefr, colTok = 3, 7, 9, 5, 4, 4, 6
	colFixed                                                 = colPos + colKind + colLast + colOK + col429 + colRefr + colTok + 8 // separators
)

func columnsFor(w int) columns {
	avail := max(w-colFixed, 20)
	state := min(40, max(22, avail*3/5))
	return columns{label: avail - state, state: state}
}

func (c columns) row(pos, label, kind, state, last, ok, r429, refr, tokens string) string {
	return padLeft(pos, colPos) + " " + pad(fit(label, c.label), c.label) + " " + pad(fit(kind, colKind), colKind) + " " +
		pad(fit(state, c.state), c.state) + " " + pad(last, colLast) + " " +
		padLeft(ok, colOK) + " " + padLeft(r429, col429) + " " + padLeft(refr, colRefr) + " " + padLeft(tokens, colTok)
}

// tokens is the account's recorded token use, in and out, for people:
// "-" when no gateway recorded any, else "950", "12k", "3.4M".
func tokens(u *usage.Account) string {
	if u == nil {
		return "-"
	}
	n := u.InputTokens + u.OutputTokens
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10)
	case n < 100_000:
		return strconv.FormatFloat(float64(n)/1000, 'f', 1, 64) + "k"
	case n < 1_000_000:
		return strconv.FormatInt(n/1000, 10) + "k"
	}
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + "M"
}

// mainLines are the account table and the event feed.
func (m *uiModel) mainLines(w, h int, now time.Time) []string {
	if !m.loaded {
		return []string{"reading the vault…"}
	}
	evH := max(3, h/3)
	listH := h - evH - 1 // the events' rule
	c := columnsFor(w)
	out := []string{m.styles.head.Render(fit(c.row("#", "LABEL", "KIND", "STATE", "LAST USED", "OK", "429", "REFR", "TOKENS"), w))}
	listH--

	// Every pool's header and rows; then a window that shows the selection.
	var body []string
	selLine := 0
	row := 0
	var curKey pool.Key
	for _, a := range m.rows {
		if k := pool.KeyOf(a.ID); row == 0 || k != curKey {
			curKey = k
			body = append(body, m.styles.pool.Render(fit(k.String()+" · "+poolSummary(m.pools, k), w)))
		}
		text := c.row(strconv.Itoa(a.Position+1), a.ID.Label, kindName(a.Kind), uiState(a.Account, now), lastUsed(a.Stats.LastUsed, now),
			count(a.Stats.Successes), count(a.Stats.RateLimited+a.Stats.QuotaExhausted), count(a.Stats.Refreshes), tokens(a.Usage))
		text = fit(text, w)
		if row == m.sel {
			selLine = len(body)
			body = append(body, m.styles.sel.Render(pad(text, w)))
		} else {
			body = append(body, m.stateStyle(a.Account, now, text, c))
		}
		row++
	}
	if len(body) == 0 {
		msg := "no accounts yet: a adds an API key; or run vaultkey login PROVIDER"
		if m.filter != "" {
			msg = "no account matches the filter " + strconv.Quote(m.filter)
		}
		body = append(body, fit(msg, w))
	}
	start := 0
	if len(body) > listH {
		start = max(0, min(selLine-listH/2, len(body)-listH))
	}
	body = body[start:min(len(body), start+listH)]
	for len(body) < listH {
		body = append(body, "")
	}
	out = append(out, body...)

	out = append(out, m.styles.faint.Render(rule("events", w)))
	var evs []string
	for i := len(m.events) - 1; i >= 0 && len(evs) < evH; i-- {
		evs = append(evs, fit(eventLine(m.events[i], now), w))
	}
	if len(evs) == 0 {
		evs = append(evs, m.styles.faint.Render(fit("no events yet", w)))
	}
	// Newest last, at the bottom.
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	return append(out, evs...)
}

// stateStyle colors a row's state cell.
func (m *uiModel) stateStyle(a pool.Account, now time.Time, text string, c columns) string {
	st := m.styles.ready
	switch {
	case a.Availability == pool.Cooling && a.Until.After(now):
		st = m.styles.cooling
	case a.Availability != pool.Ready && a.Availability != pool.Cooling:
		st = m.styles.bad
	}
	start := colPos + 1 + c.label + 1 + colKind + 1
	r := []rune(ansi.Strip(text))
	if ansi.StringWidth(text) != len(r) || len(r) < start {
		return text // wide characters: leave the row plain
	}
	end := min(len(r), start+c.state)
	return string(r[:start]) + st.Render(string(r[start:end])) + string(r[end:])
}

func poolSummary(pools []uiPool, k pool.Key) string {
	for _, p := range pools {
		if p.Key == k {
			ready := 0
			for _, a := range p.Accounts {
				if a.Availability == pool.Ready {
					ready++
				}
			}
			noun := "accounts"
			if len(p.Accounts) == 1 {
				noun = "account"
			}
			return fmt.Sprintf("%d %s, %d ready", len(p.Accounts), noun, ready)
		}
	}
	return ""
}

// uiState is an account's state as the accounts table shows it
// (accountState), with a live countdown for a cooling account.
func uiState(a pool.Account, now time.Time) string {
	switch a.Availability {
	case pool.Cooling:
		if d := a.Until.Sub(now); d > 0 {
			s := "cooling " + eventlog.Duration(d)
			if why := coolingReason(a); why != "" {
				s += " (" + why + ")"
			}
			return s
		}
	case pool.Ready, pool.Disabled, pool.ReauthNeeded, pool.Unreadable:
	default:
		return a.Availability.String()
	}
	return accountState(a, now)
}

func kindName(k records.Kind) string {
	switch k {
	case records.KindAPI:
		return "API key"
	case records.KindOAuth:
		return "OAuth"
	case records.KindWellKnown:
		return "token"
	}
	return "-"
}

func count(n uint64) string { return strconv.FormatUint(n, 10) }

// eventLine is one line of the feed: time, pool, what happened.
func eventLine(e eventlog.Entry, now time.Time) string {
	t := e.Time.In(now.Location())
	stamp := t.Format("15:04:05")
	if y1, m1, d1 := t.Date(); y1 != now.Year() || m1 != now.Month() || d1 != now.Day() {
		stamp = t.Format("Jan 02 15:04")
	}
	return stamp + "  " + e.Pool + "  " + e.Summary()
}

func (m *uiModel) helpLines(w, h int) []string {
	out := []string{m.styles.head.Render("keys"), ""}
	for _, k := range uiKeys {
		out = append(out, fit("  "+pad(k[0], 10)+k[1], w))
	}
	out = append(out, "", fit("Every action is the same as the accounts commands and runs under the vault lock.", w),
		fit("Any key goes back.", w))
	return out[:min(len(out), h)]
}

func (m *uiModel) detailsLines(w, h int, now time.Time) []string {
	d := m.details
	if d == nil {
		return nil
	}
	var a *uiAccount
	for i := range m.rows {
		if m.rows[i].ID == d.id {
			a = &m.rows[i]
		}
	}
	out := []string{m.styles.head.Render(fit(d.id.String(), w))}
	line := func(k, v string) { out = append(out, fit("  "+pad(k, 12)+v, w)) }
	if a == nil {
		line("state", "gone from the vault")
	} else {
		line("kind", kindName(a.Kind))
		line("position", fmt.Sprintf("%d of %d", a.Position+1, m.poolSize(*a)))
		line("state", uiState(a.Account, now))
		for _, cd := range a.Cooldowns {
			model := cd.Model
			if model == "" {
				model = "all models"
			}
			left := "ended"
			if dd := cd.Until.Sub(now); dd > 0 {
				left = eventlog.Duration(dd) + " left"
			}
			why := strings.TrimSpace(strconv.Itoa(cd.Status) + " " + cd.Reason)
			line("cooldown", fmt.Sprintf("%s: %s, %s (%s, step %d)", model, cd.Kind, left, why, cd.Step))
		}
		s := a.Stats
		line("requests", fmt.Sprintf("%d: %d ok, %d rate limited, %d out of quota, %d auth failures, %d errors",
			s.Requests, s.Successes, s.RateLimited, s.QuotaExhausted, s.AuthFailures, s.Errors))
		line("refreshes", fmt.Sprintf("%d ok, %d failed", s.Refreshes, s.RefreshFailures))
		last := lastUsed(s.LastUsed, now)
		if s.LastStatus != 0 {
			last += fmt.Sprintf(" (last status %d)", s.LastStatus)
		}
		line("last used", last)
		if u := a.Usage; u != nil {
			line("gateways", fmt.Sprintf("%d requests, %d tokens in, %d out", u.Requests, u.InputTokens, u.OutputTokens))
			if q := u.RateLimit.Remaining(); q != "" {
				line("quota left", q+" (seen "+lastUsed(u.RateLimit.Seen, now)+")")
			}
		}
	}
	switch {
	case d.err != nil:
		line("record", safeLine(d.err.Error()))
	case d.rec != nil:
		line("created", timeAt(d.rec.Created, now))
		line("updated", timeAt(d.rec.Updated, now)+" (the credential's last write: login, refresh)")
		if !d.rec.Expiry.IsZero() {
			line("token", "expires "+timeAt(d.rec.Expiry, now))
		}
		origins := make([]string, len(d.rec.Origins))
		for i, o := range d.rec.Origins {
			origins[i] = string(o)
		}
		if len(origins) == 0 {
			origins = []string{"none (the account names no base URL)"}
		}
		line("origins", strings.Join(origins, ", "))
	default:
		line("record", "reading…")
	}
	out = append(out, "", m.styles.faint.Render(rule("recent events", w)))
	var evs []string
	for i := len(m.events) - 1; i >= 0; i-- {
		e := m.events[i]
		if e.Account == d.id.String() || e.From == d.id.String() {
			evs = append(evs, fit(eventLine(e, now), w))
		}
	}
	if len(evs) == 0 {
		evs = append(evs, fit("none seen", w))
	}
	room := h - len(out)
	evs = evs[:max(0, min(len(evs), room))]
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	out = append(out, evs...)
	return out[:min(len(out), h)]
}

func timeAt(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(now.Location()).Format("2006-01-02 15:04:05")
}

func (m *uiModel) loginLines(w, h int) []string {
	l := m.session
	if l == nil {
		return nil
	}
	out := []string{m.styles.head.Render(fit(l.provider+" login: follow the steps below; esc cancels", w)), ""}
	lines := l.lines
	if len(lines) > h-3 {
		lines = lines[len(lines)-(h-3):]
	}
	for _, s := range lines {
		// A URL is kept whole where it fits, so that it can be copied.
		out = append(out, fit(s, w))
	}
	out = append(out, "", "waiting…")
	return out
}

// fit cuts s to w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	return ansi.Truncate(s, w, "…")
}

// pad fills s with spaces to w cells.
func pad(s string, w int) string {
	if n := w - ansi.StringWidth(s); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}

func padLeft(s string, w int) string {
	if n := w - ansi.StringWidth(s); n > 0 {
		return strings.Repeat(" ", n) + s
	}
	return s
}

func rule(name string, w int) string {
	s := "── " + name + " "
	return fit(s+strings.Repeat("─", max(0, w-ansi.StringWidth(s))), w)
}

// listHeight is about how many account rows the table shows, for page
// moves.
func (m *uiModel) listHeight() int {
	body := max(m.height, 6) - 3
	return max(1, body-max(3, body/3)-2)
}
