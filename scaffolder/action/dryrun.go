package action

// The built-in actions all run in dry runs: each checks Context.DryRun and
// keeps its effects inside the workspace (catalog:register and publish:git
// validate and report instead of acting).
func (fetchPlain) SupportsDryRun() bool        { return true }
func (fetchPlainFile) SupportsDryRun() bool    { return true }
func (fetchTemplate) SupportsDryRun() bool     { return true }
func (fetchTemplateFile) SupportsDryRun() bool { return true }
func (fsDelete) SupportsDryRun() bool          { return true }
func (fsRename) SupportsDryRun() bool          { return true }
func (fsRead) SupportsDryRun() bool            { return true }
func (debugLog) SupportsDryRun() bool          { return true }
func (debugWait) SupportsDryRun() bool         { return true }
func (catalogRegister) SupportsDryRun() bool   { return true }
func (catalogWrite) SupportsDryRun() bool      { return true }
func (catalogFetch) SupportsDryRun() bool      { return true }
func (publishGit) SupportsDryRun() bool        { return true }
