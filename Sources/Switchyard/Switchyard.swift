import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import SwitchyardCore

/// The `switchyard` command: serve, check, token, usage, state.
@main
struct Switchyard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "An Anthropic Messages API gateway for OpenAI-compatible and Anthropic upstreams.",
        subcommands: [Serve.self, Check.self, Token.self, UsageCommand.self, StateCommand.self],
        defaultSubcommand: Serve.self)

    static func main() async {
        // Run Swift concurrency on NIO's event loops: the request path then stays on the loop
        // that owns its sockets instead of hopping to a separate thread pool and back.
        if let threads = ProcessInfo.processInfo.environment["SWITCHYARD_THREADS"].flatMap(Int.init), threads > 0 {
            NIOSingletons.groupLoopCountSuggestion = threads
        }
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
