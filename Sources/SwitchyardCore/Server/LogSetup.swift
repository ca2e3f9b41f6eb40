import Logging

/// The process logger: human-readable lines on stderr (stdout carries the access log).
public enum LogSetup {
    public static func makeLogger(level: String) -> Logger {
        var logger = Logger(label: "switchyard") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = Logger.Level(rawValue: level) ?? .info
        return logger
    }
}
