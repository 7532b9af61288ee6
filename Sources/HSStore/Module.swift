// The HSStore module.
