import Foundation
import SwitchyardWire

/// Everything compiled from one config: the stage chain, the route matcher, the token table and
/// the precomputed answers. Immutable; each request reads the current snapshot once and finishes
/// on it, whatever reloads happen meanwhile.
public final class GatewaySnapshot: Sendable {
    public let config: GatewayConfig
    public let generation: Int
    public let pipeline: Pipeline
    public let router: RouteMatcher
    public let authenticator: Authenticator
    /// Prices per target.
    public let costs: CostBook
    /// The state shared across snapshots (for the usage API and page).
    public let state: GatewayState
    /// What `GET /v1/models` lists.
    let models: ModelsCatalog
    /// First 12 hex characters of the config's content hash (`switchyard-config` header).
    public let configTag: String

    public init(config: GatewayConfig, generation: Int, state: GatewayState, accessLog: AccessLogSink) {
        self.config = config
        self.generation = generation
        self.state = state
        router = RouteMatcher(routes: config.routes)
        authenticator = Authenticator(mode: config.auth, users: config.users)
        configTag = String(config.contentHash.prefix(12))
        let secrets = config.upstreamSecrets
        let costs = CostBook(config: config)
        self.costs = costs
        var stages: [any Stage] = []
        for name in config.pipeline {
            switch name {
            case .logger:
                stages.append(
                    AccessLogStage(
                        sink: accessLog, format: config.logging.format, verbose: config.logging.verbose, metrics: state.metrics, secrets: secrets,
                        costs: costs, accounting: state.accounting))
            case .auth: stages.append(AuthStage(authenticator: authenticator))
            case .limiter:
                stages.append(
                    LimiterStage(
                        config: config, state: state.limiter, costs: costs, accounting: state.accounting, sharedLimits: state.sharedLimits,
                        whenSharedUnavailable: state.whenSharedUnavailable))
            case .mapper: stages.append(MapperStage(providers: config.providers, policy: config.fallback, cooldowns: state.cooldowns, metrics: state.metrics))
            case .translator:
                stages.append(
                    TranslatorStage(
                        stripBillingHeader: config.stripBillingHeader, reasoningContent: config.reasoningContent, secrets: secrets,
                        streams: state.streams))
            case .transport: stages.append(TransportStage(clients: state.clients))
            }
        }
        pipeline = Pipeline(stages: stages)
        models = ModelsCatalog(routes: config.routes, showTargets: config.server.modelsShowTargets)
    }
}
