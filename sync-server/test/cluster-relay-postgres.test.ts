import { clusterRelaySuite } from './cluster-relay-suite.js'
import { postgresCluster } from './cluster-backends.js'

// Three relay processes on one scratch PostgreSQL database: the deployment the cluster is for.
clusterRelaySuite(postgresCluster)
