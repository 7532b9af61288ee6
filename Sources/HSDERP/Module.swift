// The HSDERP module; its files arrive with its first feature.
