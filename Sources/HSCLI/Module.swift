// The HSCLI module; its files arrive with its first feature.
