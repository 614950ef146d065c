// The model/query suite on PostgreSQL through the connection pool.
import { postgresSuite } from './postgres-suite.ts'

postgresSuite('model and query suite on PostgreSQL', { poolSize: 4 })
