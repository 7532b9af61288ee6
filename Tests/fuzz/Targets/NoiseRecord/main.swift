import FuzzSupport
import HSCore
import HSCrypto
import HSNoise

/// A finished handshake between fixed keys; each input starts from copies of its two transports.
let pair: (client: NoiseTransport, server: NoiseTransport) = {
    let serverKey = try! Curve25519PrivateKey(rawBytes: [UInt8](repeating: 7, count: 32))
    let machineKey = try! Curve25519PrivateKey(rawBytes: [UInt8](repeating: 9, count: 32))
    let initiator = try! NoiseInitiator(
        machineKey: machineKey,
        serverPublicKey: MachinePublicKey(bytes: serverKey.publicKeyBytes)!,
        protocolVersion: 130
    )
    let result = try! NoiseHandshake.respond(to: initiator.initiation, serverKey: serverKey)
    return (try! initiator.complete(response: result.response), result.transport)
}()

// Input: byte 0 is the mode, byte 1 the slice size. Mode 0 feeds the rest to the server's `open`
// as received bytes. Any other mode splits the rest at 0xFF bytes into messages, seals them with the
// client's transport, and feeds the records in slices: the server must return exactly the messages.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    guard input.count >= 2 else { return 0 }
    var server = pair.server
    let body = Array(input.dropFirst(2))
    let sizes = [input[1], input[1] &+ 13]
    if input[0] == 0 {
        for piece in slices(body, sizes: sizes) {
            guard (try? server.open(piece)) != nil else { return 0 }
        }
        return 0
    }
    var client = pair.client
    let messages = body.split(separator: 0xFF, omittingEmptySubsequences: false).map(Array.init)
    var stream: [UInt8] = []
    for message in messages {
        do {
            stream += try client.seal(message)
        } catch {
            fuzzFailure("sealing \(message.count) bytes failed: \(error)")
        }
    }
    var received: [UInt8] = []
    for piece in slices(stream, sizes: sizes) {
        do {
            received += try server.open(piece)
        } catch {
            fuzzFailure("opening a sealed stream failed: \(error)")
        }
    }
    guard received == messages.flatMap({ $0 }) else { fuzzFailure("plaintext did not round-trip") }
    return 0
}

runFuzzer(fuzzOne)
