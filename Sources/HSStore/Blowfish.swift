/// The Blowfish cipher state with bcrypt's expensive key schedule ("EksBlowfish").
///
/// Only what bcrypt needs: key/salt expansion and single-block encryption of two 32-bit halves.
struct Blowfish {
    /// The 18 P-array words followed by the four 256-word S-boxes.
    private var state: [UInt32]

    init() {
        state = BlowfishInitialState.parray + BlowfishInitialState.sboxes
    }

    /// Packs bytes into big-endian 32-bit words; `bytes.count` must be a multiple of 4.
    static func words(of bytes: [UInt8]) -> [UInt32] {
        stride(from: 0, to: bytes.count, by: 4).map { index in
            bytes[index..<index + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
    }

    /// Encrypts one 64-bit block given as its left and right halves.
    func encrypt(_ left: UInt32, _ right: UInt32) -> (UInt32, UInt32) {
        state.withUnsafeBufferPointer { Blowfish.encrypt(left, right, state: $0) }
    }

    /// Mixes `key` into the P-array, then re-encrypts the whole state, XOR-ing in `salt` words when a salt is
    /// given (bcrypt's ExpandKey(state, salt, key); a nil salt is the zero-salt variant).
    mutating func expand(key: [UInt8], salt: [UInt8]?) {
        state.withUnsafeMutableBufferPointer { state in
            var keyIndex = 0
            for index in 0..<18 {
                state[index] ^= Blowfish.nextWord(key, &keyIndex)
            }
            var left: UInt32 = 0
            var right: UInt32 = 0
            var saltIndex = 0
            for index in stride(from: 0, to: state.count, by: 2) {
                if let salt {
                    left ^= Blowfish.nextWord(salt, &saltIndex)
                    right ^= Blowfish.nextWord(salt, &saltIndex)
                }
                (left, right) = Blowfish.encrypt(left, right, state: UnsafeBufferPointer(state))
                state[index] = left
                state[index + 1] = right
            }
        }
    }

    /// Reads the next four bytes of `data` as a big-endian word, wrapping around to its start.
    private static func nextWord(_ data: [UInt8], _ index: inout Int) -> UInt32 {
        var word: UInt32 = 0
        for _ in 0..<4 {
            word = word << 8 | UInt32(data[index])
            index = (index + 1) % data.count
        }
        return word
    }

    private static func encrypt(
        _ left: UInt32,
        _ right: UInt32,
        state: UnsafeBufferPointer<UInt32>
    ) -> (UInt32, UInt32) {
        var left = left
        var right = right
        for round in 0..<16 {
            left ^= state[round]
            let sboxes = 18
            let a = state[sboxes + Int(left >> 24)]
            let b = state[sboxes + 256 + Int((left >> 16) & 0xff)]
            let c = state[sboxes + 512 + Int((left >> 8) & 0xff)]
            let d = state[sboxes + 768 + Int(left & 0xff)]
            right ^= ((a &+ b) ^ c) &+ d
            swap(&left, &right)
        }
        swap(&left, &right)
        right ^= state[16]
        left ^= state[17]
        return (left, right)
    }
}
