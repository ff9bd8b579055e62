// Placeholder until the CLI issue lands: the server and agent are not available yet.
console.log('skein: server not yet available (the CLI and server issues have not landed yet).')
