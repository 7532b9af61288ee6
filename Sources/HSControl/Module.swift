// The HSControl module; its files arrive with its first feature.
