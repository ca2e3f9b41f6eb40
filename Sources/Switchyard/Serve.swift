import ArgumentParser
import Foundation
import SwitchyardCore

/// `switchyard serve`
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway (reload the config with SIGHUP).")

    @Option(name: .long, help: "Config file (default: ./config/switchyard.yaml if present, else the embedded default).")
    var config: String?

    @Option(name: .long, help: "Listen address host:port, overriding server.listen (port 0 picks a free port).")
    var listen: String?

    @Option(name: .long, help: "Write the bound port to this file once listening.")
    var portFile: String?

    func run() async throws {
        do {
            try await GatewayServer.run(.init(configPath: config, listen: listen, portFile: portFile))
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("switchyard: invalid config:\n\(error.problems.map { "  \($0)" }.joined(separator: "\n"))\n".utf8))
            throw ExitCode(1)
        }
    }
}
