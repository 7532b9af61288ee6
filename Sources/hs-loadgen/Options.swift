import HSLoadGen

/// Command-line options of `hs-loadgen`.
struct Options {
    var host = "127.0.0.1"
    var port: UInt16 = 8080
    var authKey = ""
    var nodes = 200
    var waves = 4
    var sampleFraction = 0.05
    var serverPID: Int32?
    var idleSeconds = 15.0
    var joins = 20
    var endpointChanges = 20
    /// Sampled clients that go offline and online again, one at a time.
    var onlineChanges = 10
    var burst = 0
    var restartCommand: String?
    var outputPath: String?
    var policyCommand: String?
    var policyFile: String?
    var policyJoins = 20
    /// Addresses per block of the generated policy; 0 picks the size that gives about 64 blocks.
    var policyBlockSize = 0
    var phaseTimeout = 120.0
    /// Fail (exit 1) unless every sampled client saw every join and endpoint change.
    var requireComplete = false

    static let usage = """
        usage: hs-loadgen --server HOST:PORT --authkey KEY [options]
          --nodes N              clients connected in the ramp (default 200)
          --waves W              ramp in W concurrent bursts; server RSS is sampled after each (default 4)
          --sample F             fraction of clients that decode every map message (0-1, default 0.05)
          --server-pid PID       server process for CPU and RSS readings from /proc
          --idle-seconds S       length of the idle CPU window (default 15)
          --joins J              joins timed one at a time after the ramp (default 20)
          --endpoint-changes E   lite endpoint updates timed one at a time (default 20)
          --online-changes C     sampled clients that close and reopen their map stream one at a time;
                                 the others record the bytes of each offline and online delta (default 10)
          --burst B              clients registered concurrently after that (default 0)
          --restart-command CMD  shell command that restarts the server for the reconnect storm;
                                 its last output line must be the new server PID
          --policy-file FILE     where the generated per-block policy is written (with --policy-command)
          --policy-command CMD   shell command that sets the policy in --policy-file on the server,
                                 such as `headscale policy set -f FILE`; runs the policy scenario
          --policy-joins J       joins timed one at a time under the generated policy (default 20)
          --policy-block S       addresses per policy block, a power of two (default: about 64 blocks)
          --output FILE          write the results as JSON
          --phase-timeout S      seconds each phase may take before it counts as failed (default 120)
          --require-complete     exit 1 unless every sampled client saw every event
        """

    /// Parses `arguments` (without the program name).
    static func parse(_ arguments: [String]) throws(LoadGenError) -> Options {
        var options = Options()
        var index = 0
        func value() throws(LoadGenError) -> String {
            index += 1
            guard index < arguments.count else {
                throw LoadGenError("option \(arguments[index - 1]) needs a value\n\(usage)")
            }
            return arguments[index]
        }
        while index < arguments.count {
            let name = arguments[index]
            switch name {
            case "--server": try options.setServer(try value())
            case "--authkey": options.authKey = try value()
            case "--nodes": options.nodes = try number(name, try value(), in: 1...100_000)
            case "--waves": options.waves = try number(name, try value(), in: 1...100)
            case "--sample": options.sampleFraction = try fraction(name, try value())
            case "--server-pid": options.serverPID = Int32(try number(name, try value(), in: 1...Int(Int32.max)))
            case "--idle-seconds": options.idleSeconds = Double(try number(name, try value(), in: 0...3600))
            case "--joins": options.joins = try number(name, try value(), in: 0...10_000)
            case "--endpoint-changes": options.endpointChanges = try number(name, try value(), in: 0...10_000)
            case "--online-changes": options.onlineChanges = try number(name, try value(), in: 0...10_000)
            case "--burst": options.burst = try number(name, try value(), in: 0...100_000)
            case "--restart-command": options.restartCommand = try value()
            case "--output": options.outputPath = try value()
            case "--policy-file": options.policyFile = try value()
            case "--policy-command": options.policyCommand = try value()
            case "--policy-joins": options.policyJoins = try number(name, try value(), in: 0...10_000)
            case "--policy-block": options.policyBlockSize = try number(name, try value(), in: 2...65_536)
            case "--phase-timeout": options.phaseTimeout = Double(try number(name, try value(), in: 1...3600))
            case "--require-complete": options.requireComplete = true
            case "--help", "-h": throw LoadGenError(usage)
            default: throw LoadGenError("unknown option \"\(name)\"\n\(usage)")
            }
            index += 1
        }
        guard !options.authKey.isEmpty else {
            throw LoadGenError(
                "--authkey is required: create a reusable key with `headscale preauthkeys create --reusable`"
            )
        }
        guard (options.policyCommand == nil) == (options.policyFile == nil) else {
            throw LoadGenError("--policy-command and --policy-file go together; give both or neither")
        }
        return options
    }

    private mutating func setServer(_ text: String) throws(LoadGenError) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw LoadGenError("--server \"\(text)\" is invalid; use HOST:PORT such as 127.0.0.1:8080")
        }
        host = String(text[..<colon])
        self.port = port
    }

    private static func number(_ name: String, _ text: String, in range: ClosedRange<Int>) throws(LoadGenError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw LoadGenError(
                "\(name) \"\(text)\" is invalid; use an integer from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return value
    }

    private static func fraction(_ name: String, _ text: String) throws(LoadGenError) -> Double {
        guard let value = Double(text), (0...1).contains(value) else {
            throw LoadGenError("\(name) \"\(text)\" is invalid; use a number from 0 to 1")
        }
        return value
    }
}
