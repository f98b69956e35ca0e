import { mkdir, readdir, realpath, symlink } from 'node:fs/promises';
import { join, relative } from 'node:path';

/**
 * Gives a clone of the workspace the workspace's installed packages without installing them: each
 * entry of `node_modules` linked, except the workspace's own packages (`@flotilla/*`), which are
 * linked to the clone's folders, so that the clone's code (and Nx's project graph) is the clone's.
 */
export async function linkWorkspaceModules(workspace: string, clone: string): Promise<void> {
  const modules = join(clone, 'node_modules');
  await mkdir(join(modules, '@flotilla'), { recursive: true });
  for (const entry of await readdir(join(workspace, 'node_modules'))) {
    if (entry !== '@flotilla')
      await symlink(join(workspace, 'node_modules', entry), join(modules, entry));
  }
  for (const pkg of await readdir(join(workspace, 'node_modules/@flotilla'))) {
    const target = relative(
      workspace,
      await realpath(join(workspace, 'node_modules/@flotilla', pkg)),
    );
    await symlink(join(clone, target), join(modules, '@flotilla', pkg));
  }
}
