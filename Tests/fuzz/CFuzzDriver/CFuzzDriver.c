// Empty: the header only declares libFuzzer's driver, which the fuzzer runtime defines.
