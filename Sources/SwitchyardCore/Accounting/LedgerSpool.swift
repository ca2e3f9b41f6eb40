import Foundation

/// The ledger's spool on disk: records the store could not take before the gateway exited (the
/// database down during a shutdown) are written here, one JSON object a line, and written to the
/// store first at the next start. Bounded by the writer's backlog; a record written twice is kept
/// once (request_id is unique in the store).
public enum LedgerSpool {
    /// Replaces the spool with `records` (atomically); removes it when there are none.
    public static func write(_ records: [UsageRecord], to path: String) throws {
        guard !records.isEmpty else {
            try? FileManager.default.removeItem(atPath: path)
            return
        }
        let encoder = JSONEncoder()
        var data = Data()
        for record in records {
            data += try encoder.encode(record)
            data.append(0x0A)
        }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// The spooled records, in order; lines that do not parse are skipped.
    public static func read(_ path: String) -> [UsageRecord] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = JSONDecoder()
        return data.split(separator: 0x0A).compactMap { try? decoder.decode(UsageRecord.self, from: Data($0)) }
    }

    public static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
