import ArgumentParser
import Foundation
import SwitchyardCore

/// `switchyard usage`: totals and budget use from the ledger.
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage", abstract: "Print usage and cost from the ledger (works while the gateway runs).")

    @Option(name: .long, help: "Config file (default: ./config/switchyard.yaml if present, else the embedded default).")
    var config: String?

    @Option(name: .long, help: "From this date (2026-12-01) or RFC 3339 time; default 30 days ago.")
    var since: String?

    @Option(name: .long, help: "Through this date (the whole day) or until this RFC 3339 time; default now.")
    var until: String?

    @Option(name: .long, help: "Group by a comma list of: user, route, target, model, day.")
    var by: String?

    @Option(name: .long, help: "table, json or csv.")
    var format: String = "table"

    func run() async throws {
        guard let format = UsageReport.Format(rawValue: format) else { throw ValidationError("--format: expected table, json or csv") }
        let loaded = try CommandConfig.load(config)
        let by = by.map { $0.split(separator: ",").map(String.init) } ?? []
        switch await UsageReport.run(config: loaded, options: .init(since: since, until: until, by: by, format: format)) {
        case .success(let text): print(text)
        case .failure(let error):
            FileHandle.standardError.write(Data("switchyard usage: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// The config a command works on, or exit 1 with every problem listed.
enum CommandConfig {
    static func load(_ path: String?) throws -> GatewayConfig {
        do {
            return try GatewayServer.loadConfig(GatewayServer.resolveSource(path), loader: ConfigLoader())
        } catch {
            FileHandle.standardError.write(Data("switchyard: invalid config:\n\(error.problems.map { "  \($0)" }.joined(separator: "\n"))\n".utf8))
            throw ExitCode(1)
        }
    }
}
