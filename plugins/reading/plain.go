package reading

import "context"

// PlainReader is the Mux seen through plain URL strings and built-in
// types, for consumers that declare their own small interface and do not
// import this package (the scaffolder's fetch actions).
type PlainReader struct{ m *Mux }

// Plain returns the Mux as a PlainReader.
func (m *Mux) Plain() PlainReader { return PlainReader{m: m} }

// ReadURL returns the bytes of a file.
func (p PlainReader) ReadURL(ctx context.Context, rawURL string) ([]byte, error) {
	f, err := p.m.ReadURL(ctx, rawURL, Options{})
	if err != nil {
		return nil, err
	}
	return f.Data, nil
}

// ReadTree calls visit for each file of a directory, in the tree's order.
func (p PlainReader) ReadTree(ctx context.Context, rawURL string, visit func(path string, data []byte, executable bool) error) error {
	t, err := p.m.ReadTree(ctx, rawURL, Options{})
	if err != nil {
		return err
	}
	for _, f := range t.Files {
		if err := visit(f.Path, f.Data, f.Executable); err != nil {
			return err
		}
	}
	return nil
}
