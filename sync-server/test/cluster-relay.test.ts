import { clusterRelaySuite } from './cluster-relay-suite.js'
import { sqliteCluster } from './cluster-backends.js'

// Three relay processes on one SQLite file in WAL (one host only: not a deployment mode).
clusterRelaySuite(sqliteCluster)
