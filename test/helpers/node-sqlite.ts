// Which Node lines have the built-in `node:sqlite` without a flag, read off the version (not
// by loading it, which is what the store does): tests hold the store's choice of driver to it.

/** Whether this Node has `node:sqlite` unflagged: 22.13 and later on 22, 23.4 on 23, every 24+. */
export const NODE_HAS_SQLITE: boolean = (() => {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  return major >= 24 || (major === 23 && minor >= 4) || (major === 22 && minor >= 13)
})()
