// Package plugins will hold the plugin interface (an ID plus optional
// capabilities such as scaffolder actions and entity-page cards) and the
// built-in integrations with the other platform planes.
package plugins
