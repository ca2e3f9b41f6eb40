import SwitchyardWire

/// The `/health` answer: status, service, config generation and hash, routes.
enum HealthBody {
    static func render(_ snapshot: GatewaySnapshot) -> [UInt8] {
        JSONWriter.encode(
            .object([
                "status": .string("healthy"), "service": .string("switchyard"),
                "config_generation": .int(Int64(snapshot.generation)), "config_hash": .string(snapshot.configTag),
                "routes": .int(Int64(snapshot.config.routes.count)),
            ]))
    }
}
