import FuzzSupport
import HSCore
import HSCrypto
import HSNoise

let serverKey = try! Curve25519PrivateKey(rawBytes: [UInt8](repeating: 7, count: 32))
let serverPublic = MachinePublicKey(bytes: serverKey.publicKeyBytes)!

// Input: byte 0 is the mode. Mode 0 sends the rest as the initiation as it is. Any other mode builds
// a valid initiation from a machine key made of bytes 1...32, then XORs the bytes after those into
// it: an all-zero mask must give a handshake whose transports talk to each other.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    guard let mode = input.first else { return 0 }
    if mode == 0 {
        _ = try? NoiseHandshake.respond(to: Array(input.dropFirst()), serverKey: serverKey)
        return 0
    }
    var seed = Array(input.dropFirst().prefix(32))
    seed += [UInt8](repeating: 1, count: 32 - seed.count)
    let mask = Array(input.dropFirst(33))
    guard let machineKey = try? Curve25519PrivateKey(rawBytes: seed),
        let initiator = try? NoiseInitiator(
            machineKey: machineKey,
            serverPublicKey: serverPublic,
            protocolVersion: UInt16(mode)
        )
    else { return 0 }
    var initiation = initiator.initiation
    for (index, byte) in mask.enumerated() where index < initiation.count {
        initiation[index] ^= byte
    }
    if mask.count > initiation.count { initiation += mask[initiation.count...] }
    let result: NoiseHandshakeResult
    do {
        result = try NoiseHandshake.respond(to: initiation, serverKey: serverKey)
    } catch {
        if initiation == initiator.initiation { fuzzFailure("valid initiation rejected: \(error)") }
        return 0
    }
    guard initiation == initiator.initiation else { return 0 }
    guard result.peerMachineKey.bytes == machineKey.publicKeyBytes else { fuzzFailure("machine key differs") }
    do {
        var client = try initiator.complete(response: result.response)
        var server = result.transport
        let sealed = try client.seal(Array("ping".utf8))
        guard try server.open(sealed) == Array("ping".utf8) else { fuzzFailure("record did not round-trip") }
    } catch {
        fuzzFailure("handshake did not complete: \(error)")
    }
    return 0
}

runFuzzer(fuzzOne)
