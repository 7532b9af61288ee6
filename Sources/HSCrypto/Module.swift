// The HSCrypto module; its files arrive with its first feature.
