import ArgumentParser
import SwitchyardCore

/// The `switchyard` command: serve, check, token.
@main
struct Switchyard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "An Anthropic Messages API gateway for OpenAI-compatible and Anthropic upstreams.",
        subcommands: [Serve.self, Check.self, Token.self],
        defaultSubcommand: Serve.self)
}
