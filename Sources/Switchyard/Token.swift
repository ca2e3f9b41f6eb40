import ArgumentParser
import Foundation
import SwitchyardCore

/// `switchyard token new NAME` and `switchyard token hash`.
struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make and hash user tokens.", subcommands: [New.self, Hash.self])

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a fresh token (give it to the user) and the YAML line with its hash.")
        @Argument(help: "The user's name (\(UserName.rule)).") var name: String

        func validate() throws {
            guard UserName.isValid(name) else { throw ValidationError("invalid user name: use \(UserName.rule)") }
        }

        func run() {
            let token = TokenFactory.make()
            print("token for \(name) (shown once; give it to the user):")
            print("  \(token)")
            print("users entry for the config file:")
            print("  - name: \(name)")
            print("    token_sha256: \(TokenFactory.hash(token))")
        }
    }

    struct Hash: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read a token on stdin and print its SHA-256 hex.")
        func run() throws {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw ValidationError("no token on standard input") }
            print(TokenFactory.hash(line.trimmingCharacters(in: .whitespaces)))
        }
    }
}
