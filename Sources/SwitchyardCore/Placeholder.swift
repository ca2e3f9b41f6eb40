import Hummingbird
import AsyncHTTPClient
import Yams
import Crypto
import ServiceLifecycle
import Prometheus
public enum CorePlaceholder {}
