import Testing

@testable import HSStore

/// Expected hashes come from libxcrypt's `crypt` (Debian 12), an independent bcrypt implementation.
@Suite struct BCryptTests {
    static let vectors: [(password: String, hash: String)] = [
        ("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
        ("", "$2a$04$abcdefghijklmnopqrstuubyCG3zY1GIXMyxfivm.ClDiInHzxjiq"),
        (
            "KTmfCUFG_4gJ8CuI5j3W67DX8eMnQJi6W8ToVK0esXMrPK5YTm_p8THq6VnH22-K",
            "$2b$04$Zx9y8w7v6u5t4s3r2q1p0OUlsoLf9kedr/AfFpd1lzOzVm251m5d."
        ),
        (String(repeating: "a", count: 80), "$2a$04$LmNoPqRsTuVwXyZ012345unSV2bpoWu91TiuFVtVsLtaT5vF1Ikb6"),
    ]

    @Test func knownHashesVerify() {
        for vector in Self.vectors {
            #expect(BCrypt.verify(password: Array(vector.password.utf8), hash: vector.hash), "\(vector.hash)")
        }
    }

    @Test func wrongPasswordFails() {
        for vector in Self.vectors {
            #expect(!BCrypt.verify(password: Array((vector.password + "x").utf8).suffix(71), hash: vector.hash))
        }
    }

    @Test func hashMatchesReference() throws {
        let salt = try #require(BCrypt.decode(Array("CCCCCCCCCCCCCCCCCCCCC.".utf8), count: 16))
        #expect(BCrypt.hash(password: Array("U*U".utf8), salt: salt, cost: 5) == Self.vectors[0].hash)
    }

    @Test func freshHashRoundTrips() {
        let hash = BCrypt.hash(password: Array("secret".utf8), cost: 4)
        #expect(hash.hasPrefix("$2a$04$"))
        #expect(hash.count == 60)
        #expect(BCrypt.verify(password: Array("secret".utf8), hash: hash))
        #expect(!BCrypt.verify(password: Array("Secret".utf8), hash: hash))
    }

    @Test func malformedHashNeverMatches() {
        for hash in [
            "", "$2a$04$short", "$3a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
            "$2a$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
        ] {
            #expect(!BCrypt.verify(password: Array("U*U".utf8), hash: hash), "\(hash)")
        }
    }
}
