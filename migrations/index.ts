import { InitialSchema1764800000000 } from './1764800000000-initial-schema';
import { VectorStore1764800000001 } from './1764800000001-vector-store';
import { ContainerEntries1764800000002 } from './1764800000002-container-entries';
import { EmbedderProviders1764800000003 } from './1764800000003-embedder-providers';

/** Every migration in the order it runs. A new migration is added here as well. */
export const MIGRATIONS = [InitialSchema1764800000000, VectorStore1764800000001, ContainerEntries1764800000002, EmbedderProviders1764800000003];
