// The HSTLS module; its files arrive with its first feature.
