/// `switchyard state migrate`: opens the configured store, which applies every migration it has
/// not applied yet (numbered, each once, under an advisory lock on PostgreSQL), and says what it did.
public enum StateMigration {
    public static func run(_ settings: StateSettings) async -> Result<String, GatewayError> {
        let store: any UsageStore
        let name: String
        switch settings.backend {
        case .off:
            return .failure(.invalidRequest("state.url is off: there is no store to migrate"))
        case .sqlite(let path):
            store = SQLiteUsageStore(path: path)
            name = "sqlite:\(path)"
        case .postgres(let url):
            guard let pg = PostgresUsageStore(url: url) else { return .failure(.invalidRequest("state.url is not a usable PostgreSQL URL")) }
            store = pg
            name = GatewayServer.withoutPassword(url)
        }
        do {
            try await store.migrate()
            await store.close()
            return .success("state store \(name): schema is up to date")
        } catch {
            await store.close()
            return .failure(.internalError("cannot migrate \(name): \(String(describing: error))"))
        }
    }
}
