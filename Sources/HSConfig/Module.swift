// The HSConfig module; its files arrive with its first feature.
