import FuzzSupport
import HSDERP
import HSPosix

// Input: one UDP datagram. A packet taken as a binding request gets a response built for it.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let packet = fuzzBytes(data, size)
    guard let transaction = STUN.parseBindingRequest(packet) else { return 0 }
    if transaction.bytes != Array(packet[8..<20]) { fuzzFailure("transaction id not taken from bytes 8..<20") }
    _ = STUN.bindingResponse(transactionID: transaction, address: UDPAddress(ip: [192, 0, 2, 1], port: 3478)!)
    return 0
}

runFuzzer(fuzzOne)
