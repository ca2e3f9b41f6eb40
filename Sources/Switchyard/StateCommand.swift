import ArgumentParser
import Foundation
import SwitchyardCore

/// `switchyard state migrate`: creates or upgrades the state store's schema by hand (the
/// gateway also does it at start, under an advisory lock on PostgreSQL).
struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state", abstract: "Manage the state store (ledger and shared limits).", subcommands: [Migrate.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or upgrade the schema of state.url (idempotent; safe while replicas run).")

        @Option(name: .long, help: "Config file (default: ./config/switchyard.yaml if present, else the embedded default).")
        var config: String?

        func run() async throws {
            let loaded = try CommandConfig.load(config)
            switch await StateMigration.run(loaded.state) {
            case .success(let text): print(text)
            case .failure(let error):
                FileHandle.standardError.write(Data("switchyard state migrate: \(error.message)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
