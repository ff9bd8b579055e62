/** Small accessible modal dialogs (native <dialog>: focus trapping and Escape come free). */
import { h } from './dom.js'

/** Asks for one line of text; resolves undefined when cancelled. */
export function askText(title: string, label: string, initial = ''): Promise<string | undefined> {
  return new Promise((resolve) => {
    const input = h('input', {
      type: 'text',
      name: 'value',
      value: initial,
      required: true,
      autocomplete: 'off',
      spellcheck: 'false',
    })
    const cancel = h('button', { type: 'button' }, 'Cancel')
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', {}, title),
      h('label', {}, label, input),
      h('div', { class: 'actions' }, cancel, h('button', { type: 'submit', value: 'ok' }, 'OK')),
    )
    const dlg = h('dialog', { 'aria-label': title }, form)
    let result: string | undefined
    form.addEventListener('submit', () => {
      result = input.value.trim() || undefined
    })
    cancel.addEventListener('click', () => dlg.close())
    dlg.addEventListener('close', () => {
      dlg.remove()
      resolve(result)
    })
    document.body.append(dlg)
    dlg.showModal()
    input.select()
  })
}

/** Shows an error where the user is looking, in words that say what to do. */
export function reportError(e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e)
  const region = document.getElementById('errors')
  if (!region) return
  region.textContent = msg
  region.hidden = false
  setTimeout(() => {
    if (region.textContent === msg) region.hidden = true
  }, 8000)
}
