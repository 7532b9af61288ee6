// The HSHTTP2 module; its files arrive with its first feature.
