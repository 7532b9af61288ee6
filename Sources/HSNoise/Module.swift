// The HSNoise module; its files arrive with its first feature.
