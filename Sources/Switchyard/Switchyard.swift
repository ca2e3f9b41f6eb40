import ArgumentParser
import SwitchyardCore
@main struct Switchyard: AsyncParsableCommand { mutating func run() async throws {} }
