package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/eventlog"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

// uiRefresh is how often the ui reads the shared state (and redraws its
// countdowns).
const uiRefresh = time.Second

// uiActionTimeout bounds one action, the wait for the vault lock included.
const uiActionTimeout = 30 * time.Second

// uiMaxEvents is how many events the ui keeps for its feed and details.
const uiMaxEvents = eventlog.Max

// uiMode is what the ui is showing or asking.
type uiMode int

const (
	modeList    uiMode = iota
	modeHelp           // the key list
	modeDetails        // one account
	modePrompt         // a question on the status line
	modeLogin          // a login in progress
)

// uiPromptKind says what a prompt's answer is for.
type uiPromptKind int

const (
	promptFilter uiPromptKind = iota
	promptDisableReason
	promptRemove
	promptAddID
	promptAddKey
	promptLoginClient
	promptLoginLabel
)

// uiPrompt is a question with a text input.
type uiPrompt struct {
	kind  uiPromptKind
	label string
	input textinput.Model
	id    records.ID // the account it is about
	// for the login's second question: the first answer
	client string
}

// uiModel is the ui's state. Update never blocks: reading the vault and
// every action run as commands, whose results come back as messages.
type uiModel struct {
	ctx    context.Context
	src    *uiSource
	now    func() time.Time
	login  func(ctx context.Context, key pool.Key, client, label string, out func(string)) (string, error)
	styles uiStyles
	title  string

	width, height int
	pools         []uiPool
	rows          []uiAccount // the accounts shown: every pool's, filtered
	sel           int
	selID         records.ID
	events        []eventlog.Entry
	filter        string
	loading       bool
	loaded        bool

	status    string
	statusErr bool
	readErr   bool // the status line shows a reading's error

	mode    uiMode
	prev    uiMode // the mode a prompt returns to
	prompt  *uiPrompt
	details *uiDetails
	session *uiLogin
}

// uiDetails is the account the details view shows.
type uiDetails struct {
	id  records.ID
	rec *uiRecordInfo
	err error
}

// uiRecordInfo is what the details view shows of a record: times and
// kind, never a credential.
type uiRecordInfo struct {
	Kind             records.Kind
	Created, Updated time.Time
	Expiry           time.Time // OAuth access token
	Scopes           int
	// Origins are where the account's credential may be sent: its
	// provider's API and its own base URL.
	Origins []adapters.Origin
}

// uiLogin is a login running in the background.
type uiLogin struct {
	provider string
	lines    []string
	cancel   context.CancelFunc
	msgs     chan tea.Msg
	done     bool
}

// Messages.
type (
	uiTickMsg   time.Time
	uiLoadedMsg uiSnapshot
	uiActionMsg struct {
		done string
		err  error
	}
	uiDetailsMsg struct {
		id  records.ID
		rec *uiRecordInfo
		err error
	}
	uiLoginLine   string
	uiLoginResult struct {
		msg string
		err error
	}
)

func newUIModel(ctx context.Context, src *uiSource, title string, now func() time.Time, styles uiStyles) *uiModel {
	return &uiModel{ctx: ctx, src: src, title: title, now: now, styles: styles, width: 80, height: 24}
}

func (m *uiModel) Init() tea.Cmd { return tea.Batch(m.loadCmd(), m.tickCmd()) }

func (m *uiModel) tickCmd() tea.Cmd {
	return tea.Tick(uiRefresh, func(t time.Time) tea.Msg { return uiTickMsg(t) })
}

func (m *uiModel) loadCmd() tea.Cmd {
	m.loading = true
	return func() tea.Msg { return uiLoadedMsg(m.src.load(m.ctx)) }
}

// action runs fn as a command; done is the status line on success.
func (m *uiModel) action(done string, fn func(ctx context.Context) error) tea.Cmd {
	m.setStatus("working…", false)
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(m.ctx, uiActionTimeout)
		defer cancel()
		return uiActionMsg{done: done, err: fn(ctx)}
	}
}

func (m *uiModel) setStatus(s string, isErr bool) {
	m.status, m.statusErr, m.readErr = safeLine(s), isErr, false
}

func (m *uiModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, nil
	case uiTickMsg:
		cmds := []tea.Cmd{m.tickCmd()}
		if !m.loading {
			cmds = append(cmds, m.loadCmd())
		}
		return m, tea.Batch(cmds...)
	case uiLoadedMsg:
		m.loading, m.loaded = false, true
		m.pools = msg.Pools
		m.events = append(m.events, msg.Events...)
		if n := len(m.events) - uiMaxEvents; n > 0 {
			m.events = append(m.events[:0:0], m.events[n:]...)
		}
		m.rebuild()
		switch {
		case msg.Err != nil:
			m.setStatus(msg.Err.Error(), true)
			m.readErr = true
		case m.readErr:
			m.setStatus("", false) // the problem went away
			m.readErr = false
		}
		return m, nil
	case uiActionMsg:
		if msg.err != nil {
			m.setStatus(msg.err.Error(), true)
		} else {
			m.setStatus(msg.done, false)
		}
		if m.loading {
			return m, nil // the next tick reads the change
		}
		return m, m.loadCmd()
	case uiDetailsMsg:
		if m.details != nil && m.details.id == msg.id {
			m.details.rec, m.details.err = msg.rec, msg.err
		}
		return m, nil
	case uiLoginLine:
		if m.session != nil {
			m.session.lines = append(m.session.lines, safeLine(string(msg)))
			if n := len(m.session.lines) - 50; n > 0 {
				m.session.lines = m.session.lines[n:]
			}
			return m, m.session.next()
		}
		return m, nil
	case uiLoginResult:
		if m.session != nil {
			m.session.done = true
			m.session.cancel()
			m.session = nil
			if m.mode == modeLogin {
				m.mode = modeList
			}
		}
		if msg.err != nil {
			m.setStatus(msg.err.Error(), true)
			return m, nil
		}
		m.setStatus(msg.msg, false)
		return m, m.loadCmd()
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	if m.mode == modePrompt && m.prompt != nil {
		var cmd tea.Cmd
		m.prompt.input, cmd = m.prompt.input.Update(msg)
		return m, cmd
	}
	return m, nil
}

// rebuild recomputes the rows shown and keeps the selection on the same
// account.
func (m *uiModel) rebuild() {
	m.rows = m.rows[:0]
	for _, p := range m.pools {
		for _, a := range p.Accounts {
			if m.filter == "" || strings.Contains(strings.ToLower(a.ID.String()), strings.ToLower(m.filter)) {
				m.rows = append(m.rows, a)
			}
		}
	}
	m.sel = min(m.sel, max(len(m.rows)-1, 0))
	for i, r := range m.rows {
		if r.ID == m.selID {
			m.sel = i
			break
		}
	}
	if m.sel < len(m.rows) {
		m.selID = m.rows[m.sel].ID
	}
}

// selected returns the selected account.
func (m *uiModel) selected() (uiAccount, bool) {
	if m.sel < len(m.rows) {
		return m.rows[m.sel], true
	}
	return uiAccount{}, false
}

func (m *uiModel) selectRow(i int) {
	if len(m.rows) == 0 {
		return
	}
	m.sel = max(0, min(i, len(m.rows)-1))
	m.selID = m.rows[m.sel].ID
}

func (m *uiModel) key(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	s := k.String()
	if s == "ctrl+c" {
		return m, tea.Quit
	}
	switch m.mode {
	case modePrompt:
		return m.promptKey(k)
	case modeHelp:
		if s == "q" {
			return m, tea.Quit
		}
		m.mode = modeList
		return m, nil
	case modeDetails:
		switch s {
		case "q":
			return m, tea.Quit
		case "esc", "enter", "backspace", "left", "h":
			m.mode, m.details = modeList, nil
		}
		return m, nil
	case modeLogin:
		if s == "esc" && m.session != nil {
			m.session.cancel()
			m.setStatus("login cancelled", true)
		}
		return m, nil
	}
	switch s {
	case "q":
		return m, tea.Quit
	case "?":
		m.mode = modeHelp
	case "up", "k":
		m.selectRow(m.sel - 1)
	case "down", "j":
		m.selectRow(m.sel + 1)
	case "pgup":
		m.selectRow(m.sel - m.listHeight())
	case "pgdown":
		m.selectRow(m.sel + m.listHeight())
	case "home", "g":
		m.selectRow(0)
	case "end", "G":
		m.selectRow(len(m.rows) - 1)
	case "esc":
		if m.filter != "" {
			m.filter = ""
			m.rebuild()
		}
	case "/":
		m.ask(promptFilter, "filter: ", records.ID{}, m.filter, false)
	case "enter":
		if a, ok := m.selected(); ok {
			m.mode, m.details = modeDetails, &uiDetails{id: a.ID}
			return m, m.detailsCmd(a.ID)
		}
	case "d":
		if a, ok := m.selected(); ok {
			if a.Disabled {
				id := a.ID
				return m, m.action("enabled "+id.String(), func(ctx context.Context) error { return m.src.enable(ctx, id) })
			}
			m.ask(promptDisableReason, "reason for disabling "+a.ID.Label+" (enter: none): ", a.ID, "", false)
		}
	case "r":
		if a, ok := m.selected(); ok {
			id := a.ID
			return m, m.action("reset "+id.String(), func(ctx context.Context) error { return m.src.reset(ctx, id) })
		}
	case "K", "J":
		if a, ok := m.selected(); ok {
			to := a.Position - 1
			if s == "J" {
				to = a.Position + 1
			}
			if to < 0 || to >= m.poolSize(a) {
				m.setStatus(a.ID.Label+" is already at the "+map[bool]string{true: "top", false: "bottom"}[to < 0]+" of its pool", true)
				return m, nil
			}
			id := a.ID
			return m, m.action(fmt.Sprintf("moved %s to position %d", id, to+1), func(ctx context.Context) error { return m.src.move(ctx, id, to) })
		}
	case "x":
		if a, ok := m.selected(); ok {
			m.ask(promptRemove, "remove "+a.ID.String()+"? type its label to confirm: ", a.ID, "", false)
		}
	case "a":
		prefill := ""
		if a, ok := m.selected(); ok {
			prefill = a.ID.Provider + "/" + a.ID.Namespace + "/"
		}
		m.ask(promptAddID, "new API-key account (provider/namespace/label): ", records.ID{}, prefill, false)
	case "l":
		a, ok := m.selected()
		if !ok {
			m.setStatus("select an account of the provider to log in to (or use: vaultkey login)", true)
			return m, nil
		}
		p := m.ask(promptLoginClient, "", a.ID, "", false)
		p.label = a.ID.Provider + " login; OAuth client (" + clientHint(a.ID.Provider) + "): "
		if cs := presetClients(a.ID.Provider); len(cs) > 0 {
			p.input.Placeholder = cs[0].Name
		}
	}
	return m, nil
}

// clientHint names the preset clients of provider for the login prompt.
func clientHint(provider string) string {
	var names []string
	for _, c := range presetClients(provider) {
		names = append(names, c.Name)
	}
	if len(names) == 0 {
		return "a client id"
	}
	return "a preset: " + strings.Join(names, ", ") + "; or a client id"
}

func (m *uiModel) poolSize(a uiAccount) int {
	for _, p := range m.pools {
		if len(p.Accounts) > 0 && p.Accounts[0].ID.Provider == a.ID.Provider && p.Accounts[0].ID.Namespace == a.ID.Namespace {
			return len(p.Accounts)
		}
	}
	return 0
}

// ask opens a prompt on the status line.
func (m *uiModel) ask(kind uiPromptKind, label string, id records.ID, value string, secret bool) *uiPrompt {
	in := textinput.New()
	in.Prompt = ""
	in.SetValue(value)
	in.CharLimit = 4096
	if secret {
		in.EchoMode = textinput.EchoPassword
		in.EchoCharacter = '•'
	}
	in.SetWidth(max(10, m.width-len([]rune(label))-2))
	in.Focus()
	if m.mode != modePrompt {
		m.prev = m.mode
	}
	m.prompt = &uiPrompt{kind: kind, label: label, input: in, id: id}
	m.mode = modePrompt
	return m.prompt
}

func (m *uiModel) closePrompt() {
	if m.prompt != nil {
		m.prompt.input.Reset() // a typed key is not kept by the model
	}
	m.prompt = nil
	m.mode = m.prev
}

func (m *uiModel) promptKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	p := m.prompt
	switch k.String() {
	case "esc":
		if p.kind == promptFilter {
			m.filter = ""
			m.rebuild()
		}
		m.closePrompt()
		return m, nil
	case "enter":
		return m.answer(p, p.input.Value())
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(k)
	if p.kind == promptFilter {
		m.filter = p.input.Value()
		m.rebuild()
	}
	return m, cmd
}

// answer acts on a prompt's answer.
func (m *uiModel) answer(p *uiPrompt, v string) (tea.Model, tea.Cmd) {
	m.closePrompt()
	switch p.kind {
	case promptFilter:
		m.filter = v
		m.rebuild()
	case promptDisableReason:
		id, reason := p.id, strings.TrimSpace(v)
		return m, m.action("disabled "+id.String(), func(ctx context.Context) error { return m.src.disable(ctx, id, reason) })
	case promptRemove:
		if v != p.id.Label {
			m.setStatus("not removed: the label typed was not "+p.id.Label, true)
			return m, nil
		}
		id := p.id
		return m, m.action("removed "+id.String(), func(ctx context.Context) error { return m.src.remove(ctx, id) })
	case promptAddID:
		id, err := records.ParseID(strings.TrimSpace(v))
		if err != nil {
			m.setStatus(err.Error(), true)
			return m, nil
		}
		m.ask(promptAddKey, "API key for "+id.String()+": ", id, "", true)
	case promptAddKey:
		id, key := p.id, []byte(v)
		last := ""
		if r := []rune(v); len(r) >= 12 {
			last = " …" + string(r[len(r)-4:])
		}
		return m, m.action("added "+id.String()+" (api key"+last+")", func(ctx context.Context) error {
			defer clear(key)
			return m.src.addKey(ctx, id, key)
		})
	case promptLoginClient:
		client := strings.TrimSpace(v)
		if client == "" {
			client = p.input.Placeholder
		}
		if client == "" {
			m.setStatus("a login needs an OAuth client", true)
			return m, nil
		}
		q := m.ask(promptLoginLabel, "label (enter: the account's email): ", p.id, "", false)
		q.client = client
	case promptLoginLabel:
		return m, m.startLogin(pool.KeyOf(p.id), p.client, strings.TrimSpace(v))
	}
	return m, nil
}

func (m *uiModel) detailsCmd(id records.ID) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(m.ctx, uiActionTimeout)
		defer cancel()
		rec, err := m.src.record(ctx, id)
		if err != nil {
			return uiDetailsMsg{id: id, err: err}
		}
		info := &uiRecordInfo{Kind: rec.Kind, Created: rec.Created, Updated: rec.Updated}
		if rec.OAuth != nil {
			info.Expiry, info.Scopes = rec.OAuth.Expiry, len(rec.OAuth.Scopes)
		}
		if a, ok := adapters.Lookup(id.Provider); ok {
			info.Origins = a.Origins(rec)
		} else {
			info.Origins = adapters.AccountOrigins(rec, nil) // a custom provider
		}
		return uiDetailsMsg{id: id, rec: info}
	}
}

// startLogin runs the login in the background; its output lines and its
// end come back as messages.
func (m *uiModel) startLogin(key pool.Key, client, label string) tea.Cmd {
	provider := key.Provider
	if m.login == nil {
		m.setStatus("logins are not available here", true)
		return nil
	}
	ctx, cancel := context.WithCancel(m.ctx)
	l := &uiLogin{provider: provider, cancel: cancel, msgs: make(chan tea.Msg, 64)}
	m.session, m.mode = l, modeLogin
	m.setStatus("logging in to "+provider+"…", false)
	go func() {
		msg, err := m.login(ctx, key, client, label, func(line string) {
			select {
			case l.msgs <- uiLoginLine(line):
			case <-ctx.Done():
			}
		})
		l.msgs <- uiLoginResult{msg: msg, err: err}
	}()
	return l.next()
}

// next waits for the login's next message.
func (l *uiLogin) next() tea.Cmd {
	return func() tea.Msg { return <-l.msgs }
}
