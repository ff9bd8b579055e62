/** The browser editor with a real `skein sync` agent: page ⇄ disk, and disk renames in the tree. */
import { mkdir, mkdtemp, readFile, rename, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSkein, waitFor } from './helpers/cli.js'
import {
  editorText,
  openNote,
  startWebStack,
  treeItem,
  type WebStack,
} from './helpers/web-harness.js'

const POLL = { timeout: 30_000, interval: 100 }

describe('web editor with a skein sync agent', () => {
  let stack: WebStack
  let dir: string
  let agent: ReturnType<typeof spawnSkein>
  let page: Page
  beforeAll(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'skein-web-agent-')), 'notes')
    await mkdir(dir)
    await writeFile(join(dir, 'plan.md'), '# Plan\n')
    stack = await startWebStack()
    agent = spawnSkein([
      'sync',
      dir,
      '--server',
      stack.sync.url,
      '--workspace',
      'team',
      '--device',
      'laptop',
    ])
    page = await (await stack.newDevice()).newPage()
    await page.goto(stack.pageUrl('team', { device: 'Browser' }))
  })
  afterAll(async () => {
    agent?.child.kill('SIGINT')
    await agent?.exited
    await stack?.close()
  })

  it('typing in the page reaches the file on disk; editing the file reaches the page', async () => {
    await expect.poll(() => treeItem(page, 'plan.md').count(), POLL).toBe(1)
    await openNote(page, 'plan.md')
    await expect.poll(() => editorText(page), POLL).toBe('# Plan\n')

    await page.locator('.cm-content').click()
    await page.keyboard.press('Control+End')
    await page.keyboard.type('- buy milk')
    await waitFor(
      'page edit on disk',
      async () => (await readFile(join(dir, 'plan.md'), 'utf8')) === '# Plan\n- buy milk',
      30_000,
    )

    await writeFile(join(dir, 'plan.md'), '# Plan\n- buy milk\n- call Sam\n')
    await expect.poll(() => editorText(page), POLL).toBe('# Plan\n- buy milk\n- call Sam\n')
  })

  it('a rename on disk moves the entry in the page’s tree (same file, new path)', async () => {
    await expect.poll(() => treeItem(page, 'plan.md').count(), POLL).toBe(1)
    const id = await treeItem(page, 'plan.md').getAttribute('data-id')
    await mkdir(join(dir, 'archive'))
    await rename(join(dir, 'plan.md'), join(dir, 'archive', 'plan-2024.md'))
    await expect.poll(() => treeItem(page, 'archive').count(), POLL).toBe(1)
    await expect.poll(() => treeItem(page, 'plan.md').count(), POLL).toBe(0)
    // the open note follows its file
    await expect
      .poll(() => page.locator('#primary-title').textContent(), POLL)
      .toBe('archive/plan-2024.md')
    await treeItem(page, 'archive').click()
    await expect
      .poll(() => treeItem(page, 'archive/plan-2024.md').getAttribute('data-id'), POLL)
      .toBe(id)
  })
})
