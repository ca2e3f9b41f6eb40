import ArgumentParser
import Foundation
import SwitchyardCore

/// `switchyard check FILE` and `switchyard check --print-default`.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate a config file without serving; print a summary or every problem.")

    @Argument(help: "The config file to check.")
    var file: String?

    @Flag(name: .long, help: "Print the embedded default config as YAML.")
    var printDefault = false

    @Flag(name: .long, help: "Print every config key the loader accepts, as JSON (section path → keys).")
    var listKeys = false

    func run() throws {
        if printDefault {
            print(DefaultConfig.yaml)
            return
        }
        if listKeys {
            let entries = ConfigKeys.all.map { "  \"\($0.path)\": [\($0.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", "))]" }
            print("{\n" + entries.joined(separator: ",\n") + "\n}")
            return
        }
        guard let file else { throw ValidationError("give a config file, or --print-default") }
        do {
            let config = try ConfigLoader().load(path: file)
            print(ConfigSummary.render(config, path: file))
            for warning in ConfigWarnings.all(config) { print("warning: \(warning)") }
        } catch {
            FileHandle.standardError.write(Data("\(file): \(error.problems.count) problem(s):\n".utf8))
            for problem in error.problems { FileHandle.standardError.write(Data("  \(problem)\n".utf8)) }
            throw ExitCode(1)
        }
    }
}
