import HSCore
import HSCrypto
import Testing

@Suite struct NaClBoxTests {
    // Alice's and Bob's X25519 key pairs from RFC 7748, section 6.1.
    let alicePrivate = Hex.decode("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")!
    let alicePublic = Hex.decode("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")!
    let bobPrivate = Hex.decode("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")!
    let bobPublic = Hex.decode("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")!

    // The crypto_box vector of NaCl's and libsodium's test suites (Alice to Bob).
    let nonce = Hex.decode("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37")!
    let message = Hex.decode(
        "be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c6129"
            + "6cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1f"
            + "de048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f937763848645e0705"
    )!
    let box = Hex.decode(
        "f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186a"
            + "c0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526"
            + "ae90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb4"
            + "5a74e355a5"
    )!

    @Test func publicKeyMatchesRFC7748() {
        #expect(NaClBox.publicKey(forPrivateKey: alicePrivate) == alicePublic)
        #expect(NaClBox.publicKey(forPrivateKey: bobPrivate) == bobPublic)
    }

    @Test func sealMatchesKnownVector() throws {
        #expect(message.count == 131)
        let sealed = try NaClBox.seal(
            message,
            nonce: nonce,
            recipientPublicKey: bobPublic,
            senderPrivateKey: alicePrivate
        )
        #expect(sealed == box)
    }

    @Test func openMatchesKnownVector() throws {
        let opened = try NaClBox.open(box, nonce: nonce, senderPublicKey: alicePublic, recipientPrivateKey: bobPrivate)
        #expect(opened == message)
    }

    @Test func randomKeysRoundTrip() throws {
        let sender = NaClBox.makePrivateKey()
        let recipient = NaClBox.makePrivateKey()
        let nonce = NaClBox.randomBytes(24)
        let plain = Array(#"{"version":2}"#.utf8)
        let sealed = try NaClBox.seal(
            plain,
            nonce: nonce,
            recipientPublicKey: NaClBox.publicKey(forPrivateKey: recipient),
            senderPrivateKey: sender
        )
        #expect(sealed.count == plain.count + 16)
        let opened = try NaClBox.open(
            sealed,
            nonce: nonce,
            senderPublicKey: NaClBox.publicKey(forPrivateKey: sender),
            recipientPrivateKey: recipient
        )
        #expect(opened == plain)
    }

    @Test func tamperedBoxFailsToOpen() {
        var tampered = box
        tampered[40] ^= 1
        #expect(throws: NaClBoxError.self) {
            try NaClBox.open(tampered, nonce: nonce, senderPublicKey: alicePublic, recipientPrivateKey: bobPrivate)
        }
    }

    @Test func wrongLengthsRejected() {
        #expect(throws: NaClBoxError.self) {
            try NaClBox.seal([1], nonce: [0, 1], recipientPublicKey: bobPublic, senderPrivateKey: alicePrivate)
        }
        #expect(throws: NaClBoxError.self) {
            try NaClBox.open([1, 2, 3], nonce: nonce, senderPublicKey: alicePublic, recipientPrivateKey: bobPrivate)
        }
        #expect(throws: NaClBoxError.self) {
            try NaClBox.seal([1], nonce: nonce, recipientPublicKey: [1, 2], senderPrivateKey: alicePrivate)
        }
    }

    @Test func randomBytesDiffer() {
        let first = NaClBox.randomBytes(32)
        let second = NaClBox.randomBytes(32)
        #expect(first.count == 32)
        #expect(first != second)
    }
}
