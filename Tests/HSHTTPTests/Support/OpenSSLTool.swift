import Foundation

/// Runs the `openssl` command-line tool, with a deadline so a stuck handshake fails the test.
enum OpenSSLTool {
    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(_ arguments: [String], input: String = "", timeout: TimeInterval = 15) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()

        let timer = DispatchWorkItem { process.terminate() }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        return Output(
            status: process.terminationStatus,
            stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err, as: UTF8.self)
        )
    }

    /// Writes a self-signed P-256 certificate for `commonName` and its key into `directory`.
    static func makeCertificate(in directory: String, commonName: String, name: String = "server") throws
        -> (certificate: String, key: String)
    {
        let certificate = directory + "/\(name).crt"
        let key = directory + "/\(name).key"
        let output = try run([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=\(commonName)",
        ])
        guard output.status == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: output.stderr])
        }
        return (certificate, key)
    }

    /// Connects with `s_client`, sends `request` and returns everything it printed.
    static func connect(port: UInt16, request: String, extra: [String] = []) throws -> Output {
        try run(
            ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost", "-ign_eof"] + extra,
            input: request
        )
    }
}
