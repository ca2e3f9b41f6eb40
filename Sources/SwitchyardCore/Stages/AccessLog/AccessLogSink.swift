import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where access-log lines go (`logging.access_log`: stdout, stderr or a file). One `write(2)`
/// per line, so lines from concurrent requests never interleave.
public final class AccessLogSink: Sendable {
    private let fd: Int32
    private let ownsFD: Bool

    public init(destination: String) throws {
        switch destination {
        case "stdout":
            fd = 1
            ownsFD = false
        case "stderr":
            fd = 2
            ownsFD = false
        case "off", "none":
            fd = -1
            ownsFD = false
        default:
            let opened = open(destination, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
            guard opened >= 0 else {
                throw ConfigError(problems: [ConfigProblem(path: "logging.access_log", line: nil, message: "cannot open \(destination) for appending")])
            }
            fd = opened
            ownsFD = true
        }
    }

    public func write(line: [UInt8]) {
        guard fd >= 0 else { return }
        var bytes = line
        bytes.append(0x0A)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { if errno == EINTR { continue } else { return } }
                offset += n
            }
        }
    }

    deinit {
        if ownsFD { close(fd) }
    }
}
